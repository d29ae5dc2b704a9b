// htm bound to Preact: JSX-like templates with no build step. Text in templates
// is always escaped by Preact; the console never sets innerHTML.
import { h } from 'preact';
import htm from 'htm';

export const html = htm.bind(h);
