export const bool = { on: true, off: false };
const email = { var: 'email' };

/** A flagd file using what maps: types, metadata, a disabled flag, rules, a split and a segment. */
export const shop = {
  $schema: 'https://flagd.dev/schema/v0/flags.json',
  metadata: { owner: 'checkout-team' },
  $evaluators: { staff: { ends_with: [email, '@shop.example'] } },
  flags: {
    'new-checkout': {
      state: 'ENABLED',
      variants: bool,
      defaultVariant: 'off',
      metadata: { ticket: 'SHOP-12' },
      targeting: {
        if: [
          { $ref: 'staff' },
          'on',
          { and: [{ in: [{ var: 'country' }, ['de', 'fr']] }, { sem_ver: [{ var: 'app' }, '>=', '2.1.0'] }] },
          {
            fractional: [
              ['on', 50],
              ['off', 50],
            ],
          },
          null,
        ],
      },
    },
    'banner.text': {
      state: 'ENABLED',
      variants: { hello: 'Hello', sale: 'Sale now' },
      defaultVariant: 'hello',
      targeting: { if: [{ '>=': [{ var: 'age' }, 18] }, 'sale', 'hello'] },
    },
    'page-size': { state: 'ENABLED', variants: { small: 10, big: 50 }, defaultVariant: 'big' },
    theme: { state: 'DISABLED', variants: { dark: { bg: '#000' }, light: { bg: '#fff' } }, defaultVariant: 'dark' },
    'code-default': { state: 'ENABLED', variants: bool, defaultVariant: null },
  },
};
