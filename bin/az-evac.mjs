#!/usr/bin/env node
// Entry of the az-evac command: registers tsx's loader and runs cli/main.ts (no build step).
import { register } from 'tsx/esm/api';

register();
await import('../cli/main.ts');
