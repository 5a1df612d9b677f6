import { api, page } from './manageApi.js'
import type { ManageState } from './manageTypes.js'
import { loadNotices } from './notices.js'
import { render } from './renderManage.js'
import { $ } from './ui.js'
import { renderUsage, type UsageView } from './usage.js'

/** Reads the state again and shows it, with the owner's usage and notices. */
export const refresh = async () => {
  render(await api<ManageState>('/state'))
  if (page.state?.owner_view) await Promise.all([loadUsage(), loadNotices(api)])
}

/** The owner's usage chart for the chosen period. */
export async function loadUsage() {
  const period = ($('#period') as HTMLSelectElement).value
  renderUsage(await api<UsageView>(`/usage?period=${encodeURIComponent(period)}`))
}
