/** The pull bench in Node, on fake-indexeddb (pure JavaScript: not a real backend). */
import 'fake-indexeddb/auto';

export { runPullBench } from './pull.js';
