// Type-checks the detached `tm.fetch` against the real axios and ky declarations (issue 15):
// the package's types must let an app hand the manager's fetch to them as is.
import axios from 'axios';
import ky from 'ky';
import { createTokenManager } from '../pkg/index.js';

const tm = await createTokenManager({ refreshUrl: '/auth/refresh' });

const api = ky.create({ prefix: '/api', fetch: tm.fetch });
const me: { sub: string } = await api.get('me').json<{ sub: string }>();

const client = axios.create({ adapter: 'fetch', env: { fetch: tm.fetch } });
const data: { sub: string } = (await client.get<{ sub: string }>('/api/me')).data;

console.log(me, data);
