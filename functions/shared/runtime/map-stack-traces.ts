import { mapStackTracesWhenFormatted } from './stack-traces.js';

// Imported for this effect alone, first in every Lambda bundle (scripts/build.ts), never by the
// TypeScript sources.
mapStackTracesWhenFormatted();
