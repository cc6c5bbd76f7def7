/** Action and view ids of standing approvals, apart from their builders so that the escalation card imports no cycle. */
export const ACTION_APPROVE_SIMILAR = 'countersign.approve_similar';
export const VIEW_STANDING_GRANT = 'countersign.standing_grant';
export const ACTION_STANDING_REVOKE = 'countersign.standing_revoke';
