// Prints a plain "N passed, N failed, N skipped" closing line (counts leaf tests only).
export default async function* summary(source) {
  let passed = 0,
    failed = 0,
    skipped = 0;
  for await (const ev of source) {
    if (ev.type !== 'test:pass' && ev.type !== 'test:fail') continue;
    if (ev.data.details?.type === 'suite') continue; // don't count describe() blocks
    if (ev.data.skip || ev.data.todo) skipped++;
    else if (ev.type === 'test:pass') passed++;
    else failed++;
  }
  yield `${passed} passed, ${failed} failed, ${skipped} skipped\n`;
}
