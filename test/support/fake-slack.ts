// The fake Slack Web API lives in src/sandbox so that `npm start` can serve it too.
export * from '../../src/sandbox/slack-api.js';
