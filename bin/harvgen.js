#!/usr/bin/env node
// Entry point: registers the TypeScript loader (tsx) and hands over to src/cli.ts.
// The package ships its TypeScript sources, so a fresh clone needs only `npm ci`.
import { register } from 'tsx/esm/api';

register();
const { main } = await import('../src/cli.ts');
process.exitCode = await main(process.argv.slice(2));
