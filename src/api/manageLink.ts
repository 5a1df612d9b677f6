import { signManageToken, verifyManageToken } from '../web/session.js'

// Manage links for the hosted page: `${publicBaseUrl}/s/<subscription_id>?t=<token>`, where the
// token is HMAC-signed (the key shared through MANAGE_TOKEN_SECRET or the data folder) and
// short-lived. The web side verifies with `verifyManageLinkToken`.

/** A signed manage-link token for `subscriptionId`, valid `ttlSeconds` (15 minutes by default). */
const signManageLinkToken = (subscriptionId: string, ttlSeconds = 900) =>
  signManageToken(subscriptionId, 'link', ttlSeconds)

/** True if `token` is a valid, unexpired manage-link token for `subscriptionId`. */
export const verifyManageLinkToken = (token: string | undefined, subscriptionId: string) =>
  verifyManageToken(token, subscriptionId) === 'link'

export const manageLinkUrl = (publicBaseUrl: string, subscriptionId: string, ttlSeconds = 900) =>
  `${publicBaseUrl}/s/${subscriptionId}?t=${signManageLinkToken(subscriptionId, ttlSeconds)}`
