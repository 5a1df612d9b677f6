import type { Config } from '../config/index.js'
import { type ManageTokenConfig, signManageToken } from '../web/session.js'

// Manage links for the hosted page: `${publicBaseUrl}/s/<subscription_id>?t=<token>`, where the
// token is HMAC-signed (the key shared through MANAGE_TOKEN_SECRET or the data folder) and
// short-lived. The web side verifies it (src/web/manageAccess.ts).

/** The manage page's address for `subscriptionId`, with a link token valid `ttlSeconds`. */
export const manageLinkUrl = (
  config: ManageTokenConfig & Pick<Config, 'product'>,
  subscriptionId: string,
  ttlSeconds = 900,
) =>
  `${config.product.publicBaseUrl}/s/${subscriptionId}?t=${signManageToken(config, subscriptionId, 'link', ttlSeconds)}`
