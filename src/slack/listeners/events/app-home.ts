import type { App, BlockButtonAction } from '@slack/bolt';
import { publishHome } from '../../../flow/home.js';
import { ACTION_DIGEST_HOME } from '../../cards/channel-digest.js';
import { ACTION_HOME_PAGE, parseHomePage } from '../../cards/home.js';
import type { ListenerDeps } from '../context.js';

/** Opening the App Home publishes it afresh (src/flow/home.ts). */
export function registerAppHome(app: App, deps: ListenerDeps): void {
  // Opening the tab starts at the first page; paging then holds through refreshes.
  app.event('app_home_opened', async ({ event }) => {
    if (event.tab !== 'home') return;
    await publishHome(deps, event.user, undefined, 0);
  });
  // *Older →* / *← Newer*: the same Home at another page of this person's approvals.
  app.action<BlockButtonAction>(new RegExp(`^${ACTION_HOME_PAGE.replace('.', '\\.')}:`), async ({ ack, body, action }) => {
    await ack();
    const page = parseHomePage(action.value);
    if (page === undefined) return;
    await publishHome(deps, body.user.id, undefined, page);
  });
  // A channel digest's link to App Home: Slack opens the link and sends the click too; opening the tab publishes it.
  app.action(ACTION_DIGEST_HOME, async ({ ack }) => {
    await ack();
  });
}
