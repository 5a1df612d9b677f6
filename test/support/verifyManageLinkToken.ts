import { type ManageTokenConfig, verifyManageToken } from '../../src/web/session.js'

/** True if `token` is a valid, unexpired manage-link token for `subscriptionId`. */
export const verifyManageLinkToken = (
  config: ManageTokenConfig,
  token: string | undefined,
  subscriptionId: string,
) => verifyManageToken(config, token, subscriptionId) === 'link'
