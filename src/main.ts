import { mount } from 'svelte';
import './ui/styles/global.css';
import App from './ui/App.svelte';
import { ensureIsolation } from './sw/register';

// Built app: the service worker keeps it offline and cross-origin isolated on any static host;
// on the first visit it reloads the page once (see src/sw). The dev server sets the headers.
const isolation = await ensureIsolation();
if (isolation !== 'reloading') {
  const target = document.getElementById('app');
  if (!target) throw new Error('missing #app');
  mount(App, { target });
}
