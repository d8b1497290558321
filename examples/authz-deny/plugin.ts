/**
 * berth's example authorization plugin: denies every Engine API request whose method and path match
 * DENY_PATTERN (a regular expression tested against "METHOD /path", e.g. "^DELETE /plugins/"), allows the rest.
 * Built by `berth plugin build examples/authz-deny`.
 */
import { serve } from 'berth/plugin';

const source = process.env.DENY_PATTERN ?? '(?!)';
const pattern = new RegExp(source);

await serve(
  {
    authz: {
      request: ({ RequestMethod, RequestPath }) => {
        const request = `${RequestMethod} ${RequestPath}`;
        return pattern.test(request)
          ? { Allow: false, Msg: `${request} is denied by policy ${source}` }
          : { Allow: true };
      },
    },
  },
  { socket: 'authz.sock' },
);
console.log(`authz-deny: denying ${source}`);
