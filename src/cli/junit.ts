// A small JUnit XML writer for `check --reporter junit`: one testsuite, one testcase per
// scenario, a failure element per failed expectation or scenario error.

export interface CaseResult {
  name: string;
  failures: string[];
  error?: string;
  seconds: number;
}

const esc = (s: string): string =>
  s.replace(/[<>&"']/g, (ch) => ({ '<': '&lt;', '>': '&gt;', '&': '&amp;', '"': '&quot;', "'": '&apos;' })[ch]!);

export function junitXml(cases: CaseResult[]): string {
  const failures = cases.filter((c) => c.failures.length).length;
  const errors = cases.filter((c) => c.error).length;
  const time = cases.reduce((t, c) => t + c.seconds, 0);
  const body = cases
    .map((c) => {
      const inner = [
        ...c.failures.map((f) => `    <failure message="${esc(f)}">${esc(f)}</failure>`),
        ...(c.error ? [`    <error message="${esc(c.error)}">${esc(c.error)}</error>`] : []),
      ];
      const open = `  <testcase classname="vfio-emu" name="${esc(c.name)}" time="${c.seconds.toFixed(3)}"`;
      return inner.length ? `${open}>\n${inner.join('\n')}\n  </testcase>` : `${open}/>`;
    })
    .join('\n');
  return `<?xml version="1.0" encoding="UTF-8"?>\n<testsuite name="vfio-emu check" tests="${cases.length}" failures="${failures}" errors="${errors}" time="${time.toFixed(3)}">\n${body}\n</testsuite>\n`;
}
