/** The sandbox workspace's fixed ids (team, bot user, app). */
export const FAKE_IDS = { teamId: 'T0TEAM', teamDomain: 'countersign-test', botUserId: 'UBOT', botId: 'BBOT', appId: 'A0APP' } as const;
