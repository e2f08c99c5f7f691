import { readyToSendEndToEnd } from './ready-to-send.js';

// us-east-1: Easy DKIM's CNAMEs point into dkim.amazonses.com.
readyToSendEndToEnd('us-east-1');
