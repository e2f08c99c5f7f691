import { decode, encode } from '@jridgewell/sourcemap-codec';
import { describe, expect, it } from 'vitest';
import {
  assertUniqueNames,
  builtFunctionName,
  codeUriOf,
  ourMappingsOnly,
  sourceFolderOf,
} from '#scripts/build.js';

const ours = (source: string) => source.startsWith('functions/');

describe('ourMappingsOnly', () => {
  const map = {
    version: 3,
    sources: ['node_modules/sdk/a.js', 'functions/steps/x/handler.ts', 'node_modules/sdk/b.js'],
    names: ['send', 'handler', 'parse'],
    mappings: encode([
      // line 0: SDK code, then ours, then SDK again
      [
        [0, 0, 10, 0, 0],
        [5, 0, 11, 2],
        [9, 1, 3, 4, 1],
        [20, 1, 4, 0],
        [30, 2, 7, 0, 2],
      ],
      // line 1: only SDK code
      [[0, 2, 1, 0]],
      // line 2: ours only
      [[0, 1, 8, 2]],
    ]),
  };

  it('keeps the mappings of our sources and ends each stretch of dependency code with a bare segment', () => {
    const reduced = ourMappingsOnly(map, ours);
    expect(reduced?.sources).toEqual(['functions/steps/x/handler.ts']);
    expect(reduced?.names).toEqual(['handler']);
    expect(decode(reduced?.mappings ?? '')).toEqual([
      [[0], [9, 0, 3, 4, 0], [20, 0, 4, 0], [30]],
      [[0]],
      [[0, 0, 8, 2]],
    ]);
  });

  it('gives no map for a file that holds none of our code', () => {
    expect(ourMappingsOnly(map, () => false)).toBeUndefined();
  });
});

describe('function names and CodeUri', () => {
  const folders = ['functions/api/get-identity-status', 'functions/steps/create-identity'];

  it('names dist/<name>/ after the source folder, and maps it back', () => {
    expect(codeUriOf('functions/steps/create-identity')).toBe('dist/create-identity/');
    expect(sourceFolderOf('dist/create-identity/', folders)).toBe(
      'functions/steps/create-identity',
    );
    expect(sourceFolderOf('./dist/create-identity', folders)).toBe(
      'functions/steps/create-identity',
    );
  });

  it.each([
    'functions/steps/create-identity/',
    'dist/create-identity/chunks/',
    'dist/unknown/',
    'dist/',
  ])('maps %s to no function folder', (codeUri) => {
    expect(sourceFolderOf(codeUri, folders)).toBeUndefined();
  });

  it('maps a name two rooms share to no folder, and the build refuses it', () => {
    const twins = ['functions/api/sweeper', 'functions/jobs/sweeper'];
    expect(builtFunctionName('dist/sweeper/')).toBe('sweeper');
    expect(sourceFolderOf('dist/sweeper/', twins)).toBeUndefined();
    expect(() => assertUniqueNames(twins)).toThrow(
      'functions/api/sweeper and functions/jobs/sweeper share the name sweeper: rename one',
    );
  });
});
