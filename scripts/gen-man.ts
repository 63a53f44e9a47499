// Writes man/harvgen.1 from the command definitions and docs/ (`npm run gen:man`);
// test/man.test.ts fails when the committed page differs.
import { mkdirSync, writeFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { renderManPage } from './man-page.ts';

const root = fileURLToPath(new URL('..', import.meta.url));
mkdirSync(`${root}man`, { recursive: true });
writeFileSync(`${root}man/harvgen.1`, renderManPage());
console.log('wrote man/harvgen.1');
