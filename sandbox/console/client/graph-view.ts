/**
 * Draws the state machine as an SVG graph, as the Step Functions console's graph view does:
 * every state and transition of the ASL, the states a run entered coloured by how they ended,
 * the transitions it took drawn darker, the state it is in pulsing.
 */
import type { GraphLayout, Point } from '../graph-layout.js';
import { svg } from './dom.js';

export interface RunOverlay {
  states: Record<string, { status: string; entered: number }>;
  transitions: { from: string; to: string }[];
}

/** A polyline through `points`, its corners rounded into curves. */
function pathThrough(points: Point[], squared: boolean): string {
  const [first, ...rest] = points;
  if (!first) return '';
  if (squared) return `M${first.x},${first.y} ${rest.map((p) => `L${p.x},${p.y}`).join(' ')}`;
  let d = `M${first.x},${first.y}`;
  let previous = first;
  for (const point of rest) {
    const middle = (previous.y + point.y) / 2;
    d += ` C${previous.x},${middle} ${point.x},${middle} ${point.x},${point.y}`;
    previous = point;
  }
  return d;
}

const KIND_LABEL: Record<string, string> = {
  Choice: 'Choice',
  Pass: 'Pass',
  Wait: 'Wait',
  Succeed: 'Succeed',
  Fail: 'Fail',
  Map: 'Map',
  Parallel: 'Parallel',
};

/** The SVG of `layout`, with `run`'s states and transitions marked when given. */
export function drawGraph(layout: GraphLayout, run: RunOverlay | undefined): SVGSVGElement {
  const taken = new Set((run?.transitions ?? []).map((edge) => `${edge.from}\u0000${edge.to}`));
  const top = 18;
  const root = svg('svg', {
    width: layout.width,
    height: layout.height + top,
    viewBox: `0 ${-top} ${layout.width} ${layout.height + top}`,
    role: 'img',
    'aria-label': 'State machine graph',
  });
  const defs = svg(
    'defs',
    {},
    svg(
      'marker',
      {
        id: 'arrow',
        viewBox: '0 0 10 10',
        refX: 9,
        refY: 5,
        markerWidth: 7,
        markerHeight: 7,
        orient: 'auto-start-reverse',
      },
      svg('path', { d: 'M0,0 L10,5 L0,10 z', fill: '#545b64' }),
    ),
  );
  root.append(defs);

  const edges = svg('g', { class: 'edges' });
  for (const edge of layout.edges) {
    const isTaken = taken.has(`${edge.from}\u0000${edge.to}`);
    const path = svg('path', {
      class: `edge ${edge.kind}${isTaken ? ' taken' : ''}`,
      d: pathThrough(edge.points, edge.back || edge.kind === 'catch'),
      'marker-end': 'url(#arrow)',
      'data-from': edge.from,
      'data-to': edge.to,
    });
    path.append(
      svg('title', {}, `${edge.from} → ${edge.to}${edge.label ? ` (${edge.label})` : ''}`),
    );
    edges.append(path);
  }
  root.append(edges);

  const start = layout.nodes.find((node) => node.layer === 0);
  if (start) {
    const y = start.y - start.height / 2;
    root.append(
      svg(
        'g',
        { class: 'start' },
        svg('circle', { cx: start.x, cy: y - 12, r: 5 }),
        svg('path', {
          class: 'edge taken',
          d: `M${start.x},${y - 7} L${start.x},${y}`,
          'marker-end': 'url(#arrow)',
        }),
      ),
    );
  }

  const nodes = svg('g', { class: 'nodes' });
  for (const node of layout.nodes) {
    const status = run?.states[node.name]?.status ?? 'idle';
    const entered = run?.states[node.name]?.entered ?? 0;
    const group = svg('g', {
      class: `node ${node.type} ${status}`,
      'data-state': node.name,
      'data-status': status,
    });
    const rx = node.type === 'Succeed' || node.type === 'Fail' ? node.height / 2 : 6;
    group.append(
      svg('rect', {
        x: node.x - node.width / 2,
        y: node.y - node.height / 2,
        width: node.width,
        height: node.height,
        rx,
      }),
    );
    const kind = KIND_LABEL[node.type];
    group.append(svg('text', { x: node.x, y: kind ? node.y - 5 : node.y }, node.name));
    if (kind) group.append(svg('text', { class: 'kind', x: node.x, y: node.y + 9 }, kind));
    if (entered > 1) {
      group.append(
        svg(
          'text',
          { class: 'kind', x: node.x + node.width / 2 - 4, y: node.y - node.height / 2 - 6 },
          `×${entered}`,
        ),
      );
    }
    group.append(
      svg('title', {}, `${node.name} (${node.type})${status === 'idle' ? '' : `: ${status}`}`),
    );
    nodes.append(group);
  }
  root.append(nodes);
  return root;
}
