import { regionFromEnv } from '#sandbox/env.js';
import { readyToSendEndToEnd } from './ready-to-send.js';

// A region whose Easy DKIM zone is its own (dkim.eu-south-1.amazonses.com), as SANDBOX_REGION
// selects it for npm start and npm run sandbox. A file of its own: the handlers read their Region
// once, at import, as in Lambda.
readyToSendEndToEnd(regionFromEnv({ SANDBOX_REGION: 'eu-south-1' }));
