export * from './body.js';
export * from './envelope.js';
export * from './errors.js';
export * from './handler.js';
