import { MemoryStore } from '../src/index.js';
import { describeStoreConformance } from './conformance.js';

describeStoreConformance('MemoryStore', async (options) => ({ store: new MemoryStore(options) }));
