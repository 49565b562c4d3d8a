/**
 * How the explorer draws a sequence: the prologue (THP mode, the driver, the
 * designs, the first process and its first buffer) and the operations, each
 * a phrase of the vocabulary with the numbers its draw consumes. Shared by
 * scripts/explore.ts and the debug_vm equivalence test.
 */
import fc from 'fast-check';
import { type Counters, type Operation, Session, type Vocabulary } from './session';

/** What a sequence is drawn from. */
export interface SequenceOptions {
  steps: number;
  designs: string[];
  driver: 'private' | 'coherent' | 'none' | 'any';
}

/** The prologue of a sequence: THP mode, the driver, the designs asked for, the first process. */
export interface Prologue {
  lines: string[];
  /** The first buffer: process A's first operation, a mapping (a THP candidate or not), drawn with these numbers. */
  thpBuffer: boolean;
  numbers: number[];
}

export function prologue(o: SequenceOptions): fc.Arbitrary<Prologue> {
  const drivers = o.driver === 'any' ? (['private', 'coherent', 'none'] as const) : ([o.driver] as const);
  return fc
    .record({
      thp: fc.constantFrom('madvise', 'always', 'never'),
      driver: fc.constantFrom(...drivers),
      thpBuffer: fc.boolean(),
      numbers: fc.array(fc.nat({ max: 1 << 16 }), { minLength: 8, maxLength: 8 }),
    })
    .map(({ thp, driver, thpBuffer, numbers }) => ({
      thpBuffer,
      numbers,
      lines: [
        ...(thp === 'madvise' ? [] : [`transparent hugepages are ${thp}`]),
        ...o.designs,
        ...(driver === 'private'
          ? ['the HMM test driver is loaded']
          : driver === 'coherent'
            ? ['the HMM test driver is loaded with device-coherent memory']
            : []),
        'a process A',
      ],
    }));
}

const MAP_ANON = '{process} maps {size} of {sharing} anonymous memory as buffer {word}';
const MAP_THP =
  '{process} maps {size} of {sharing} anonymous memory, buffer {word} being its first 2 MiB-aligned {size}, advised MADV_HUGEPAGE';

/** Start a sequence: the prologue's Givens, and the model's devices and THP mode to match. */
export function begin(vocab: Vocabulary, counters: Counters, p: Prologue): Session {
  const s = new Session(vocab, counters);
  for (const line of p.lines) {
    s.given(line);
    const thp = /^transparent hugepages are (\w+)$/.exec(line);
    if (thp) s.model.thp = thp[1] as 'always' | 'never';
    if (line === 'the HMM test driver is loaded')
      s.model.devices.push(
        { text: 'the private device', coherent: false },
        { text: 'private device 1', coherent: false },
      );
    if (line === 'the HMM test driver is loaded with device-coherent memory')
      s.model.devices.push(
        { text: 'the coherent device', coherent: true },
        { text: 'coherent device 3', coherent: true },
        { text: 'the private device', coherent: false },
      );
  }
  const first = vocab.operations.find((op) => op.phrase === (p.thpBuffer ? MAP_THP : MAP_ANON));
  if (!first) throw new Error(`the vocabulary has no "${p.thpBuffer ? MAP_THP : MAP_ANON}" for the explorer`);
  s.step(first, p.numbers);
  return s;
}

/** One operation of a sequence: a phrase and the numbers its draw consumes. */
class StepCommand implements fc.Command<Session, Session> {
  constructor(
    readonly op: Operation,
    readonly numbers: readonly number[],
  ) {}
  check(): boolean {
    return true;
  }
  run(_m: Session, s: Session): void {
    s.step(this.op, this.numbers);
  }
  toString(): string {
    return `${this.op.phrase} [${this.numbers.join(',')}]`;
  }
}

export function commands(
  vocab: Vocabulary,
  o: SequenceOptions,
): fc.Arbitrary<Iterable<fc.Command<Session, Session>>> {
  const numbers = fc.array(fc.nat({ max: 1 << 16 }), { minLength: 8, maxLength: 8 });
  const one = fc.oneof(
    ...vocab.operations.map((op) => ({
      weight: op.explore.weight ?? 10,
      arbitrary: numbers.map((ns) => new StepCommand(op, ns) as fc.Command<Session, Session>),
    })),
  );
  return fc.commands([one], { maxCommands: o.steps, size: 'max' });
}
