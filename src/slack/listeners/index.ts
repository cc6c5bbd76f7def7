import type { App } from '@slack/bolt';
import type { ListenerDeps } from './context.js';
import { registerApprove } from './actions/approve.js';
import { registerDeny } from './actions/deny.js';
import { registerDetails } from './actions/details.js';
import { registerWhy } from './actions/why.js';
import { registerDenyReason } from './views/deny-reason.js';
import { registerCountersignCommand } from './commands/countersign.js';
import { registerResumeAgent } from './actions/resume-agent.js';
import { registerReview } from './actions/review.js';
import { registerAppHome } from './events/app-home.js';
import { registerReviewWrong } from './views/review-wrong.js';
import { registerSampleVerdict } from './actions/sample-verdict.js';
import { registerSampleIncorrect } from './views/sample-incorrect.js';
import { registerModeProposal } from './actions/mode-proposal.js';
import { registerAuditNextPage } from './actions/audit-next-page.js';
import { registerEditApprove } from './actions/edit-approve.js';
import { registerEditApproveSubmit } from './views/edit-approve.js';
import { registerApproveSimilar } from './actions/approve-similar.js';
import { registerStandingGrant } from './views/standing-grant.js';
import { registerStandingRevoke } from './actions/standing-revoke.js';
import { registerHandoff } from './actions/handoff.js';
import { registerReassign } from './views/reassign.js';

/** Every listener, registered in one place. */
export function registerListeners(app: App, deps: ListenerDeps): void {
  registerApprove(app, deps);
  registerDeny(app, deps);
  registerDetails(app, deps);
  registerWhy(app, deps);
  registerDenyReason(app, deps);
  registerCountersignCommand(app, deps);
  registerResumeAgent(app, deps);
  registerReview(app, deps);
  registerAppHome(app, deps);
  registerReviewWrong(app, deps);
  registerModeProposal(app, deps);
  registerSampleVerdict(app, deps);
  registerSampleIncorrect(app, deps);
  registerAuditNextPage(app, deps);
  registerEditApprove(app, deps);
  registerEditApproveSubmit(app, deps);
  registerApproveSimilar(app, deps);
  registerStandingGrant(app, deps);
  registerStandingRevoke(app, deps);
  registerHandoff(app, deps);
  registerReassign(app, deps);
}
