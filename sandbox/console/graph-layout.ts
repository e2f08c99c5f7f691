/**
 * A state machine's graph, laid out as the Step Functions console draws it: the states in layers
 * from the start down, an arrow for every transition (Next, a Choice's rules and Default, a
 * Catch), a loop drawn back up the side. A small layered (Sugiyama-style) layout: back edges
 * found by a depth-first walk, layers by longest path, long edges broken into dummy points so
 * they pass between the states rather than through them, a few barycentre sweeps to reduce
 * crossings, then x positions pulled towards the neighbours. Pure: the console runs it in the
 * browser, the tests in Node.
 */

/** The parts of an ASL state the graph needs (JSONPath or JSONata alike). */
export interface AslState {
  Type: string;
  Next?: string;
  End?: boolean;
  Default?: string;
  Choices?: { Next: string }[];
  Catch?: { Next: string; ErrorEquals?: string[] }[];
  [field: string]: unknown;
}

export interface AslDefinition {
  StartAt: string;
  States: Record<string, AslState>;
}

export type TransitionKind = 'next' | 'choice' | 'default' | 'catch';

export interface Transition {
  from: string;
  to: string;
  kind: TransitionKind;
  /** The errors a Catch takes, the position of a Choice rule. */
  label?: string;
}

export interface Point {
  x: number;
  y: number;
}

export interface GraphNode {
  name: string;
  type: string;
  layer: number;
  /** The centre of the box. */
  x: number;
  y: number;
  width: number;
  height: number;
}

export interface GraphEdge extends Transition {
  /** True for an edge that goes back up (a loop). */
  back: boolean;
  /** The polyline to draw, from the bottom of `from` to the top of `to` (or round the side). */
  points: Point[];
}

export interface GraphLayout {
  nodes: GraphNode[];
  edges: GraphEdge[];
  width: number;
  height: number;
}

export interface LayoutOptions {
  /** Width of one character of a state's name, in px. */
  charWidth?: number;
  nodeHeight?: number;
  layerGap?: number;
  nodeGap?: number;
  margin?: number;
}

/** Every transition out of a state, in the order the definition lists them. */
export function transitionsOf(name: string, state: AslState): Transition[] {
  const transitions: Transition[] = [];
  if (state.Next) transitions.push({ from: name, to: state.Next, kind: 'next' });
  for (const [index, rule] of (state.Choices ?? []).entries()) {
    transitions.push({ from: name, to: rule.Next, kind: 'choice', label: `rule ${index + 1}` });
  }
  if (state.Default) {
    transitions.push({ from: name, to: state.Default, kind: 'default', label: 'default' });
  }
  for (const handler of state.Catch ?? []) {
    transitions.push({
      from: name,
      to: handler.Next,
      kind: 'catch',
      label: (handler.ErrorEquals ?? []).join(', '),
    });
  }
  return transitions;
}

interface Slot {
  /** A state's name, or a dummy point of a long edge. */
  id: string;
  dummy: boolean;
  width: number;
  x: number;
}

/** Lays out `definition`'s top-level states (a Map's or Parallel's inner states are not drawn). */
export function layoutStateMachine(
  definition: AslDefinition,
  options: LayoutOptions = {},
): GraphLayout {
  const charWidth = options.charWidth ?? 7.2;
  const nodeHeight = options.nodeHeight ?? 32;
  const layerGap = options.layerGap ?? 28;
  const nodeGap = options.nodeGap ?? 28;
  const margin = options.margin ?? 24;
  const names = Object.keys(definition.States);
  const known = new Set(names);
  const transitions = names.flatMap((name) =>
    transitionsOf(name, definition.States[name] as AslState).filter((edge) => known.has(edge.to)),
  );
  const outgoing = new Map<string, Transition[]>(names.map((name) => [name, []]));
  for (const edge of transitions) outgoing.get(edge.from)?.push(edge);

  // Back edges: those reaching a state still on the walk's stack. The walk starts at StartAt,
  // then takes any state nothing reaches, so that every state gets a layer.
  const back = new Set<Transition>();
  const onStack = new Set<string>();
  const visited = new Set<string>();
  const postOrder: string[] = [];
  const walk = (name: string) => {
    visited.add(name);
    onStack.add(name);
    for (const edge of outgoing.get(name) ?? []) {
      if (onStack.has(edge.to)) back.add(edge);
      else if (!visited.has(edge.to)) walk(edge.to);
    }
    onStack.delete(name);
    postOrder.push(name);
  };
  if (known.has(definition.StartAt)) walk(definition.StartAt);
  for (const name of names) if (!visited.has(name)) walk(name);

  // Longest-path layers over the forward edges, in topological order.
  const layerOf = new Map<string, number>(names.map((name) => [name, 0]));
  for (const name of [...postOrder].reverse()) {
    for (const edge of outgoing.get(name) ?? []) {
      if (back.has(edge)) continue;
      const next = (layerOf.get(name) ?? 0) + 1;
      if (next > (layerOf.get(edge.to) ?? 0)) layerOf.set(edge.to, next);
    }
  }
  const layerCount = Math.max(0, ...layerOf.values()) + 1;
  const widthOf = (name: string) => Math.max(90, Math.round(name.length * charWidth) + 28);

  // Slots per layer: the states, and one dummy per layer an edge passes through.
  const layers: Slot[][] = Array.from({ length: layerCount }, () => []);
  for (const name of postOrder.slice().reverse()) {
    layers[layerOf.get(name) ?? 0]?.push({ id: name, dummy: false, width: widthOf(name), x: 0 });
  }
  const chains = new Map<Transition, string[]>();
  const up = new Map<string, string[]>();
  const down = new Map<string, string[]>();
  const link = (from: string, to: string) => {
    down.set(from, [...(down.get(from) ?? []), to]);
    up.set(to, [...(up.get(to) ?? []), from]);
  };
  for (const [index, edge] of transitions.entries()) {
    // Loops and Catch handlers run round the sides (below): they neither order nor widen layers.
    if (back.has(edge) || edge.kind === 'catch') continue;
    const from = layerOf.get(edge.from) ?? 0;
    const to = layerOf.get(edge.to) ?? 0;
    const chain = [edge.from];
    for (let layer = from + 1; layer < to; layer += 1) {
      const id = `\u0000${index}:${layer}`;
      layers[layer]?.push({ id, dummy: true, width: 12, x: 0 });
      chain.push(id);
    }
    chain.push(edge.to);
    for (let step = 1; step < chain.length; step += 1) {
      link(chain[step - 1] as string, chain[step] as string);
    }
    chains.set(edge, chain);
  }

  // Order within layers: barycentre sweeps down and up.
  const position = new Map<string, number>();
  const index = () => {
    for (const layer of layers) for (const [at, slot] of layer.entries()) position.set(slot.id, at);
  };
  index();
  const barycentre = (slot: Slot, neighbours: Map<string, string[]>) => {
    const around = neighbours.get(slot.id) ?? [];
    if (around.length === 0) return position.get(slot.id) ?? 0;
    return around.reduce((sum, id) => sum + (position.get(id) ?? 0), 0) / around.length;
  };
  for (let sweep = 0; sweep < 8; sweep += 1) {
    const downward = sweep % 2 === 0;
    const order = downward ? layers.slice(1) : layers.slice(0, -1).reverse();
    for (const layer of order) {
      const keys = new Map(layer.map((slot) => [slot, barycentre(slot, downward ? up : down)]));
      layer.sort((a, b) => (keys.get(a) ?? 0) - (keys.get(b) ?? 0));
      for (const [at, slot] of layer.entries()) position.set(slot.id, at);
    }
  }

  // x: packed left to right, then pulled towards the neighbours' mean, keeping the gaps.
  const xOf = new Map<string, number>();
  const gapBetween = (a: Slot, b: Slot) =>
    (a.width + b.width) / 2 + (a.dummy || b.dummy ? nodeGap / 2 : nodeGap);
  for (const layer of layers) {
    let x = 0;
    for (const [at, slot] of layer.entries()) {
      if (at > 0) x += gapBetween(layer[at - 1] as Slot, slot);
      slot.x = x;
    }
    const shift = x / 2;
    for (const slot of layer) {
      slot.x -= shift;
      xOf.set(slot.id, slot.x);
    }
  }
  const place = (layer: Slot[], neighbours: Map<string, string[]>) => {
    const desired = layer.map((slot) => {
      const around = neighbours.get(slot.id) ?? [];
      return around.length === 0
        ? slot.x
        : around.reduce((sum, id) => sum + (xOf.get(id) ?? 0), 0) / around.length;
    });
    // Left to right, each as near its wish as the one before allows; then the same from the
    // right, and the mean of both passes.
    const fromLeft = desired.slice();
    for (let at = 1; at < layer.length; at += 1) {
      const least =
        (fromLeft[at - 1] as number) + gapBetween(layer[at - 1] as Slot, layer[at] as Slot);
      if ((fromLeft[at] as number) < least) fromLeft[at] = least;
    }
    const fromRight = desired.slice();
    for (let at = layer.length - 2; at >= 0; at -= 1) {
      const most =
        (fromRight[at + 1] as number) - gapBetween(layer[at] as Slot, layer[at + 1] as Slot);
      if ((fromRight[at] as number) > most) fromRight[at] = most;
    }
    const merged = layer.map((_, at) => ((fromLeft[at] as number) + (fromRight[at] as number)) / 2);
    // The mean of two valid placements can still crowd: one left-to-right pass fixes that.
    for (let at = 1; at < layer.length; at += 1) {
      const least =
        (merged[at - 1] as number) + gapBetween(layer[at - 1] as Slot, layer[at] as Slot);
      if ((merged[at] as number) < least) merged[at] = least;
    }
    for (const [at, slot] of layer.entries()) {
      slot.x = merged[at] as number;
      xOf.set(slot.id, slot.x);
    }
  };
  for (let sweep = 0; sweep < 6; sweep += 1) {
    if (sweep % 2 === 0) for (const layer of layers.slice(1)) place(layer, up);
    else for (const layer of layers.slice(0, -1).reverse()) place(layer, down);
  }

  // To page coordinates.
  const left = Math.min(...layers.flat().map((slot) => slot.x - slot.width / 2));
  const yOfLayer = (layer: number) => margin + nodeHeight / 2 + layer * (nodeHeight + layerGap);
  const nodes: GraphNode[] = layers.flatMap((layer, at) =>
    layer
      .filter((slot) => !slot.dummy)
      .map((slot) => ({
        name: slot.id,
        type: (definition.States[slot.id] as AslState).Type,
        layer: at,
        x: slot.x - left + margin,
        y: yOfLayer(at),
        width: slot.width,
        height: nodeHeight,
      })),
  );
  const dummies = new Map(
    layers.flatMap((layer, at) =>
      layer
        .filter((slot) => slot.dummy)
        .map((slot) => [slot.id, { x: slot.x - left + margin, y: yOfLayer(at) }] as const),
    ),
  );
  const nodeNamed = new Map(nodes.map((node) => [node.name, node]));
  let right = Math.max(...nodes.map((node) => node.x + node.width / 2), 0);
  const edges: GraphEdge[] = [];
  let loops = 0;
  // Catch handlers: one bus per handler state, down the left of everything between the first
  // state it catches and the handler, as the error paths of a flowchart are drawn.
  const catchBus = new Map<string, number>();
  let leftmost = Math.min(...nodes.map((node) => node.x - node.width / 2));
  for (const handler of new Set(
    transitions.filter((edge) => edge.kind === 'catch' && !back.has(edge)).map((edge) => edge.to),
  )) {
    const target = nodeNamed.get(handler) as GraphNode;
    const sources = transitions
      .filter((edge) => edge.kind === 'catch' && edge.to === handler && !back.has(edge))
      .map((edge) => nodeNamed.get(edge.from) as GraphNode);
    const top = Math.min(...sources.map((node) => node.layer));
    const between = nodes.filter((node) => node.layer >= top && node.layer <= target.layer);
    const x = Math.min(...between.map((node) => node.x - node.width / 2)) - 16 - catchBus.size * 12;
    catchBus.set(handler, x);
    leftmost = Math.min(leftmost, x);
  }
  for (const edge of transitions) {
    const from = nodeNamed.get(edge.from) as GraphNode;
    const to = nodeNamed.get(edge.to) as GraphNode;
    const bus = catchBus.get(edge.to);
    if (edge.kind === 'catch' && bus !== undefined && !back.has(edge)) {
      edges.push({
        ...edge,
        back: false,
        points: [
          { x: from.x - from.width / 2, y: from.y },
          { x: bus, y: from.y },
          { x: bus, y: to.y },
          { x: to.x - to.width / 2, y: to.y },
        ],
      });
      continue;
    }
    if (back.has(edge)) {
      // Round the right-hand side of everything between the two states.
      loops += 1;
      const between = nodes.filter((node) => node.layer >= to.layer && node.layer <= from.layer);
      const side = Math.max(...between.map((node) => node.x + node.width / 2)) + 16 + loops * 12;
      right = Math.max(right, side);
      edges.push({
        ...edge,
        back: true,
        points: [
          { x: from.x + from.width / 2, y: from.y },
          { x: side, y: from.y },
          { x: side, y: to.y },
          { x: to.x + to.width / 2, y: to.y },
        ],
      });
      continue;
    }
    const chain = chains.get(edge) ?? [edge.from, edge.to];
    const middle = chain.slice(1, -1).map((id) => dummies.get(id) as Point);
    edges.push({
      ...edge,
      back: false,
      points: [
        { x: from.x, y: from.y + from.height / 2 },
        ...middle,
        { x: to.x, y: to.y - to.height / 2 },
      ],
    });
  }
  // Room for the catch buses on the left.
  const shift = Math.max(0, margin - leftmost);
  if (shift > 0) {
    for (const node of nodes) node.x += shift;
    for (const edge of edges) for (const point of edge.points) point.x += shift;
    right += shift;
  }
  return {
    nodes,
    edges,
    width: Math.ceil(right + margin),
    height: Math.ceil(yOfLayer(layerCount - 1) + nodeHeight / 2 + margin),
  };
}
