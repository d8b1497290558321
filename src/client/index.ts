export { BerthClient, DEFAULT_HOST, type RequestOptions, socketOf } from './client.ts';
