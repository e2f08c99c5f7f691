export * from '#shared/runs/execution-names.js';
export * from './body.js';
export * from './envelope.js';
export * from './errors.js';
export * from './handler.js';
