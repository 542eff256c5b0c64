// The lab's report: one aligned line per capture, property suite and scenario, then a summary line
// in the plain "N passed, M failed" form, and the exit code the run deserves.

export class Report {
  private passed = 0
  private failed: string[] = []
  constructor(private readonly out: NodeJS.WritableStream) {}

  section(title: string): void {
    this.out.write(`\n== ${title}\n`)
  }

  note(text: string): void {
    this.out.write(`${text}\n`)
  }

  /** Diagnostic text under the line it belongs to. */
  detail(text: string): void {
    this.out.write(`${text}\n`)
  }

  line(kind: string, name: string, ok: boolean, detail: string, seed?: number): void {
    if (ok) this.passed++
    else this.failed.push(`${kind} ${name}${seed === undefined ? '' : ` (seed ${seed})`}`)
    const seedCol = seed === undefined ? '' : `seed=${seed}`
    this.out.write(`${kind.padEnd(9)} ${name.padEnd(28)} ${(ok ? 'PASS' : 'FAIL').padEnd(5)} ${seedCol.padEnd(12)} ${detail}\n`)
  }

  /** Prints the summary and returns the process exit code. */
  finish(): number {
    this.out.write('\n')
    if (this.failed.length) this.out.write(`failed: ${this.failed.join(', ')}\n`)
    this.out.write(`${this.passed} passed, ${this.failed.length} failed\n`)
    return this.failed.length ? 1 : 0
  }
}
