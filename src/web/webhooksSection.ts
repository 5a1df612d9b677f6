/**
 * The dashboard's Webhooks card (owners and admins): the org's endpoints, a form to add one,
 * the secret shown once, and each endpoint's delivery log. Filled by src/web/client/webhooks.ts
 * through the `/v1/webhooks/endpoints` API (docs/notifications.md, Webhooks).
 */
export const webhooksSection = `<section id="webhooks" class="card" hidden aria-labelledby="webhooks-title">
    <h2 id="webhooks-title">Webhooks</h2>
    <p>We send each event to the addresses below as a signed HTTP POST, and retry for up to 3 days while your receiver is down.</p>
    <button id="wh-refresh" type="button">Refresh endpoints and logs</button>
    <div id="wh-list"></div>
    <div id="wh-secret" class="secret" role="region" aria-labelledby="wh-secret-title" tabindex="-1" hidden>
      <h3 id="wh-secret-title">Signing secret</h3>
      <p id="wh-secret-words"></p>
      <p><code id="wh-secret-value"></code> <button id="wh-secret-copy" type="button" class="copy">Copy secret</button></p>
      <p>Check every request with the <code>standardwebhooks</code> library: <code>new Webhook(secret).verify(rawBody, headers)</code> with the raw request body and its <code>webhook-id</code>, <code>webhook-timestamp</code> and <code>webhook-signature</code> headers. The <code>webhook-id</code> is the event's id: a redelivery has the same one, so skip ids you have seen.</p>
      <button id="wh-secret-done" type="button">I have saved it</button>
    </div>
    <form id="wh-add" novalidate>
      <h3>Add an endpoint</h3>
      <label for="wh-url">Receiver URL <small>https://…, where your server listens</small></label>
      <input id="wh-url" name="url" type="url" inputmode="url" autocomplete="off" spellcheck="false" placeholder="https://example.com/webhooks" aria-describedby="wh-url-error">
      <p id="wh-url-error" class="field-error" aria-live="polite"></p>
      <fieldset><legend>Send these events <small>(none ticked: every event)</small></legend><div id="wh-kinds" class="kinds"></div></fieldset>
      <button type="submit" id="wh-create" class="primary">Add endpoint</button>
    </form>
  </section>`
