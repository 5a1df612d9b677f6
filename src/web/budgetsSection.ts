/**
 * The dashboard's Budgets card (owners and admins): each spend budget of the org and its API
 * keys with what was spent and when it resets, a form to set one (with an optional temporary
 * override), and Remove. Filled by src/web/client/budgets.ts through `/v1/budgets`
 * (docs/design.md, Budgets).
 */
export const budgetsSection = `<section id="budgets" class="card" hidden aria-labelledby="budgets-title">
    <h2 id="budgets-title">Budgets</h2>
    <p>A budget caps what the whole organization, or one API key (an agent), may spend per UTC day, week or month. A call past it is refused at once with <code>SPEND_CAP_REACHED</code>; budgets only narrow what your authorization allows.</p>
    <div class="scroll" tabindex="0"><table class="stacked"><thead><tr><th scope="col">For</th><th scope="col">Per</th><th scope="col">Limit</th><th scope="col">Spent</th><th scope="col">Resets</th><th scope="col">Change</th></tr></thead><tbody id="bu-list"></tbody></table></div>
    <form id="bu-set" novalidate>
      <h3>Set a budget</h3>
      <label for="bu-scope">For</label>
      <select id="bu-scope"></select>
      <label for="bu-period">Per</label>
      <select id="bu-period"><option value="day">UTC day</option><option value="week">UTC week (from Monday)</option><option value="month">UTC month</option></select>
      <label for="bu-limit">Limit in dollars</label>
      <input id="bu-limit" inputmode="decimal" autocomplete="off" placeholder="e.g. 3">
      <fieldset><legend>Temporary override <small>optional: a different limit until a time, then the limit above again</small></legend>
        <label for="bu-override">Override limit in dollars</label>
        <input id="bu-override" inputmode="decimal" autocomplete="off" placeholder="e.g. 10">
        <label for="bu-until">Until (your local time)</label>
        <input id="bu-until" type="datetime-local">
      </fieldset>
      <button type="submit" id="bu-save" class="primary">Save budget</button>
    </form>
  </section>`
