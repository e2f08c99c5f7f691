import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import {
  type AslDefinition,
  type GraphLayout,
  layoutStateMachine,
  transitionsOf,
} from '#sandbox/console/graph-layout.js';

const definition = JSON.parse(
  readFileSync(
    new URL('../../../statemachine/verify-email-identity.asl.json', import.meta.url),
    'utf8',
  ),
) as AslDefinition;

const nodeOf = (layout: GraphLayout, name: string) => {
  const node = layout.nodes.find((candidate) => candidate.name === name);
  if (!node) throw new Error(`no node ${name}`);
  return node;
};

describe('the state machine graph of the workflow', () => {
  const layout = layoutStateMachine(definition);

  it('draws every state once and every transition the ASL declares', () => {
    expect(layout.nodes.map((node) => node.name).sort()).toEqual(
      Object.keys(definition.States).sort(),
    );
    const declared = Object.entries(definition.States).flatMap(([name, state]) =>
      transitionsOf(name, state).map((edge) => `${edge.from}->${edge.to}:${edge.kind}`),
    );
    expect(layout.edges.map((edge) => `${edge.from}->${edge.to}:${edge.kind}`).sort()).toEqual(
      declared.sort(),
    );
  });

  it('puts StartAt alone on top, and every forward transition goes down', () => {
    expect(layout.nodes.filter((node) => node.layer === 0).map((node) => node.name)).toEqual([
      definition.StartAt,
    ]);
    for (const edge of layout.edges.filter((candidate) => !candidate.back)) {
      expect(nodeOf(layout, edge.to).layer, `${edge.from} -> ${edge.to}`).toBeGreaterThan(
        nodeOf(layout, edge.from).layer,
      );
    }
  });

  it('draws the wait loop, AwaitVerification back to CheckVerification, as a back edge up the side', () => {
    const loop = layout.edges.find(
      (edge) => edge.from === 'AwaitVerification' && edge.to === 'CheckVerification',
    );
    expect(loop?.back).toBe(true);
    const right = Math.max(
      ...layout.nodes
        .filter((node) => node.layer >= nodeOf(layout, 'CheckVerification').layer)
        .filter((node) => node.layer <= nodeOf(layout, 'AwaitVerification').layer)
        .map((node) => node.x + node.width / 2),
    );
    expect(Math.min(...(loop?.points ?? []).slice(1, -1).map((point) => point.x))).toBeGreaterThan(
      right,
    );
  });

  it('runs each Catch to DescribeFailure down a bus left of every state it passes', () => {
    const catches = layout.edges.filter(
      (edge) => edge.kind === 'catch' && edge.to === 'DescribeFailure',
    );
    expect(catches.length).toBeGreaterThanOrEqual(5);
    const bus = new Set(catches.map((edge) => edge.points[1]?.x));
    expect(bus.size).toBe(1);
    const [x] = [...bus] as number[];
    for (const node of layout.nodes.filter(
      (candidate) => candidate.layer <= nodeOf(layout, 'DescribeFailure').layer,
    )) {
      expect(x).toBeLessThan(node.x - node.width / 2);
    }
  });

  it('never lets two states of a layer overlap, and keeps them all on the page', () => {
    for (const layer of new Set(layout.nodes.map((node) => node.layer))) {
      const sorted = layout.nodes.filter((node) => node.layer === layer).sort((a, b) => a.x - b.x);
      for (let at = 1; at < sorted.length; at += 1) {
        const left = sorted[at - 1] as (typeof sorted)[number];
        const right = sorted[at] as (typeof sorted)[number];
        expect(right.x - right.width / 2).toBeGreaterThan(left.x + left.width / 2);
      }
    }
    for (const node of layout.nodes) {
      expect(node.x - node.width / 2).toBeGreaterThanOrEqual(0);
      expect(node.x + node.width / 2).toBeLessThanOrEqual(layout.width);
      expect(node.y + node.height / 2).toBeLessThanOrEqual(layout.height);
    }
  });

  it('starts each forward edge at the bottom of its state and ends it at the top of the next', () => {
    for (const edge of layout.edges.filter(
      (candidate) => candidate.kind !== 'catch' && !candidate.back,
    )) {
      const from = nodeOf(layout, edge.from);
      const to = nodeOf(layout, edge.to);
      expect(edge.points[0]).toEqual({ x: from.x, y: from.y + from.height / 2 });
      expect(edge.points.at(-1)).toEqual({ x: to.x, y: to.y - to.height / 2 });
    }
  });
});

describe('layouts of small definitions', () => {
  it('lays a chain out as one column', () => {
    const layout = layoutStateMachine({
      StartAt: 'A',
      States: {
        A: { Type: 'Pass', Next: 'B' },
        B: { Type: 'Pass', Next: 'C' },
        C: { Type: 'Succeed' },
      },
    });
    expect(layout.nodes.map((node) => [node.name, node.layer])).toEqual([
      ['A', 0],
      ['B', 1],
      ['C', 2],
    ]);
    expect(new Set(layout.nodes.map((node) => node.x)).size).toBe(1);
  });

  it('places a Choice branch that rejoins below both branches, with a dummy bend for the long edge', () => {
    const layout = layoutStateMachine({
      StartAt: 'Pick',
      States: {
        Pick: { Type: 'Choice', Choices: [{ Next: 'Long1' }], Default: 'Join' },
        Long1: { Type: 'Pass', Next: 'Long2' },
        Long2: { Type: 'Pass', Next: 'Join' },
        Join: { Type: 'Succeed' },
      },
    });
    const join = layout.nodes.find((node) => node.name === 'Join');
    expect(join?.layer).toBe(3);
    const skip = layout.edges.find((edge) => edge.kind === 'default');
    expect(skip?.label).toBe('default');
    // Pick (layer 0) to Join (layer 3) passes two layers: two bends between its ends.
    expect(skip?.points).toHaveLength(4);
  });

  it('gives a state nothing reaches a place too, and ignores a Next to a state that does not exist', () => {
    const layout = layoutStateMachine({
      StartAt: 'A',
      States: { A: { Type: 'Succeed' }, Orphan: { Type: 'Pass', Next: 'Nowhere' } },
    });
    expect(layout.nodes.map((node) => node.name).sort()).toEqual(['A', 'Orphan']);
    expect(layout.edges).toEqual([]);
  });
});
