// The hosted manage page `/s/<subscription_id>`: plain words before every signature, the
// outcome and transaction after every action, and only the controls the state allows. Each
// part is a file of its own; this one wires the page's controls to them.

import { authorize } from './authorizeForm.js'
import { api, connect, guard, id, link, page, say } from './manageApi.js'
import type { Typed } from './manageTypes.js'
import { saveNotices } from './notices.js'
import { showOutcome } from './outcome.js'
import { saveAutoTopUp, savePayMode } from './payModeForms.js'
import { loadUsage, refresh } from './refreshManage.js'
import { renderStatement, type StatementView } from './statement.js'
import { buyTopUp } from './topUp.js'
import { $, plainError, shortAddress, signInWithEthereum, signTyped, usd, wallet } from './ui.js'

$('#connect').addEventListener(
  'click',
  guard(async () => {
    const challenge = await api<{ nonce: string }>('/challenge')
    const signed = await signInWithEthereum({
      nonce: challenge.nonce,
      statement: `Sign in to manage your ${page.state?.product ?? ''} subscription ${id}. This signature changes nothing and costs nothing.`,
    })
    page.account = signed.address
    await api('/session', { message: signed.message, signature: signed.signature })
    await refresh()
    say(`Signed in as ${shortAddress(signed.address)}.`)
  }),
)

$('#top-up').addEventListener('submit', (ev) => {
  ev.preventDefault()
  void guard(() => buyTopUp(id, link))()
})

$('#pay-mode').addEventListener('submit', (ev) => {
  ev.preventDefault()
  void guard(savePayMode)()
})
$('#auto-top-up').addEventListener('submit', (ev) => {
  ev.preventDefault()
  void guard(() => saveAutoTopUp(false))()
})
$('#auto-off').addEventListener(
  'click',
  guard(() => saveAutoTopUp(true)),
)

$('#notices').addEventListener('submit', (ev) => {
  ev.preventDefault()
  void guard(async () => say(await saveNotices(api)))()
})

$('#authorize').addEventListener('submit', (ev) => {
  ev.preventDefault()
  void guard(authorize)()
})

$('#cancel').addEventListener('click', () => {
  const s = page.state!
  $('#cancel-words').textContent =
    `Canceling ends this subscription for good. The same signature sets your USDC allowance to ${s.product}’s collector to $0, so nothing more can ever be pulled from ${shortAddress(s.owner ?? '')}. Usage not yet charged (${usd(s.micros?.accrued ?? '0')}) is collected first. One signature; you pay no gas.`
  $('#cancel-confirm').hidden = false
  $('#cancel').hidden = true
})
$('#cancel-no').addEventListener('click', () => {
  $('#cancel-confirm').hidden = true
  $('#cancel').hidden = false
})
$('#cancel-yes').addEventListener(
  'click',
  guard(async () => {
    const owner = await connect()
    const prepared = await api<{ cancel: Typed }>('/prepare', { action: 'cancel' })
    say('Signature 1 of 1: cancel and set your allowance to $0 — check it in your wallet and sign.')
    const signature = await signTyped(owner, prepared.cancel)
    say('Collecting what is owed, then canceling…')
    const done = await api<{ tx_hash: string; explorer_url: string | null }>('/cancel', {
      deadline: prepared.cancel.message.deadline,
      nonce: prepared.cancel.message.nonce,
      signature,
    })
    $('#cancel-confirm').hidden = true
    $('#cancel').hidden = false
    await refresh()
    say('')
    showOutcome(
      `Canceled. Your USDC allowance to the collector is now ${usd(page.state!.micros?.allowance ?? '0')}.`,
      done.tx_hash,
      done.explorer_url,
    )
  }),
)

$('#revoke').addEventListener(
  'click',
  guard(async () => {
    const owner = await connect()
    const s = page.state!
    const data = `0x095ea7b3${s.collector!.slice(2).toLowerCase().padStart(64, '0')}${'0'.repeat(64)}`
    say('Send the transaction from your wallet (you pay its gas).')
    const hash = (await wallet().request({
      method: 'eth_sendTransaction',
      params: [{ from: owner, to: s.token, data }],
    })) as string
    await refresh()
    say('')
    showOutcome('Allowance revoked by your own transaction: nothing more can be pulled.', hash)
  }),
)

$('#renew').addEventListener(
  'click',
  guard(async () => {
    const started = await api<{ url: string }>('/renew', {})
    location.assign(started.url)
  }),
)

$('#period').addEventListener('change', guard(loadUsage))

const monthInput = $<HTMLInputElement>('#month')
monthInput.value = new Date().toISOString().slice(0, 7)
$('#show-statement').addEventListener(
  'click',
  guard(async () => renderStatement(await api<StatementView>(`/statements/${monthInput.value}`))),
)

$('#public-history').addEventListener(
  'change',
  guard(async () => {
    const wanted = ($('#public-history') as HTMLInputElement).checked
    try {
      await api('/visibility', { public_history: wanted })
    } finally {
      await refresh()
    }
    say(wanted ? 'Your payment history is public.' : 'Your payment history is private.')
  }),
)

refresh().catch((e) => say(plainError(e), true))
