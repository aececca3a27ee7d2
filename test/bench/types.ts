// The shape every benchmark module returns. Machine-dependent figures are ratios against a
// baseline measured in the same run; absolute numbers are informational.
export interface BenchFigure {
  name: string;
  value: number;
  unit: string;
  /** e.g. "<= 1.5x" — shown with met/not met */
  target?: string;
  met?: boolean;
  note?: string;
}

export interface BenchSuite {
  suite: string;
  figures: BenchFigure[];
  /** why the suite could not run here (e.g. needs root), instead of figures */
  skipped?: string;
}

/** A test/bench/*.bench.ts module default-exports one of these. */
export type BenchModule = () => Promise<BenchSuite | BenchSuite[]>;
