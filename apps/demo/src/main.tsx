import { registerSW } from 'virtual:pwa-register';
import { render } from 'preact';
import { App } from './ui/app';
import './style.css';

// The service worker precaches the built app, so after the first visit it opens offline.
registerSW({ immediate: true });

render(<App />, document.getElementById('app')!);
