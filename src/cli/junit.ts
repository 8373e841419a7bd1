// A small JUnit XML writer for `check --reporter junit`: one testcase per scenario file (per
// kernel in a matrix, one testsuite each), a failure element per failed expectation with its
// file and line, an error element for a scenario error, the run's trace in system-out, and
// the directory as the classname.

export interface CaseFailure {
  file: string;
  line: number;
  message: string;
  text: string;
}

export interface CaseResult {
  name: string;
  classname: string;
  file: string;
  kernel?: string;
  failures: CaseFailure[];
  error?: string;
  /** The run as `vfio-emu run` prints it, without colour. */
  out: string;
  seconds: number;
}

const esc = (s: string): string =>
  // XML 1.0 has no escape for most control characters: they go.
  s
    .replace(/[\u0000-\u0008\u000b\u000c\u000e-\u001f]/g, '')
    .replace(/[<>&"']/g, (ch) => ({ '<': '&lt;', '>': '&gt;', '&': '&amp;', '"': '&quot;', "'": '&apos;' })[ch]!);

function testcase(c: CaseResult): string {
  const inner = [
    ...c.failures.map((f) => `    <failure message="${esc(`${f.file}:${f.line}: ${f.message}`)}" type="expect">${esc(f.text)}</failure>`),
    ...(c.error ? [`    <error message="${esc(c.error)}" type="scenario">${esc(c.error)}</error>`] : []),
    ...(c.out ? [`    <system-out>${esc(c.out)}</system-out>`] : []),
  ];
  const open = `  <testcase classname="${esc(c.classname)}" name="${esc(c.name)}" file="${esc(c.file)}" time="${c.seconds.toFixed(3)}"`;
  return inner.length ? `${open}>\n${inner.join('\n')}\n  </testcase>` : `${open}/>`;
}

function testsuite(name: string, cases: CaseResult[]): string {
  const failures = cases.filter((c) => c.failures.length && !c.error).length;
  const errors = cases.filter((c) => c.error).length;
  const time = cases.reduce((t, c) => t + c.seconds, 0);
  return `<testsuite name="${esc(name)}" tests="${cases.length}" failures="${failures}" errors="${errors}" time="${time.toFixed(3)}">\n${cases.map(testcase).join('\n')}\n</testsuite>`;
}

export function junitXml(cases: CaseResult[], matrix = false): string {
  const head = '<?xml version="1.0" encoding="UTF-8"?>\n';
  if (!matrix) return `${head}${testsuite('vfio-emu check', cases)}\n`;
  const kernels = [...new Set(cases.map((c) => c.kernel))];
  const suites = kernels.map((k) => testsuite(`vfio-emu check (kernel ${k})`, cases.filter((c) => c.kernel === k)));
  return `${head}<testsuites name="vfio-emu check">\n${suites.join('\n')}\n</testsuites>\n`;
}
