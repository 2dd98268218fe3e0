/** Shareable URL state: what a link carries, its schema, and the UI pieces around it. */
export { UrlState, type UrlStateOptions } from './url-state.svelte';
export {
  DEFAULT_DEMO,
  DEFAULT_STATE,
  SETTING_KEYS,
  TOYS,
  VIEWS,
  formatHash,
  parseHash,
  type DemoSelection,
  type DemoToy,
  type ParsedHash,
  type SharedSettings,
  type ShareState,
  type View,
} from './hash';
export { default as CopyLinkButton } from './CopyLinkButton.svelte';
export { default as LinkNotice } from './LinkNotice.svelte';
