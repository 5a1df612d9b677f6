import { switchOrgBody } from '../schemas/ownerSchemas.js'
import type { Operation } from './operation.js'

/** The operations of a signed-in wallet across its orgs. */
export const walletOperations = [
  {
    method: 'get',
    path: '/v1/wallet/orgs',
    summary: 'The orgs the signed-in wallet owns or administers (the dashboard’s org picker)',
    action: 'free',
    auth: 'owner',
    success: [200],
  },
  {
    method: 'post',
    path: '/v1/wallet/switch',
    summary: 'A session for another org of the signed-in wallet (also the tg_session cookie)',
    action: 'free',
    auth: 'owner',
    body: switchOrgBody,
    success: [200],
    idempotent: true,
    errors: ['NOT_FOUND'],
  },
] satisfies Operation[]
