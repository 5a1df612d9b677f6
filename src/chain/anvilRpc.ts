/**
 * One raw JSON-RPC call to a node, for the methods viem has no action for (anvil's
 * `anvil_dumpState`, `evm_snapshot`, ...); an error answer throws, naming the method.
 *
 * @example
 * const snapshot = await anvilRpc<string>(rpcUrl, 'evm_snapshot')
 */
export async function anvilRpc<T>(
  rpcUrl: string,
  method: string,
  params: unknown[] = [],
): Promise<T> {
  const res = await fetch(rpcUrl, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ jsonrpc: '2.0', id: 1, method, params }),
  })
  const body = (await res.json()) as { result?: T; error?: { message: string } }
  if (body.error) throw new Error(`${method}: ${body.error.message}`)
  return body.result as T
}
