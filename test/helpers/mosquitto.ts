/** The Mosquitto launcher lives with the bench (which cannot import test/); tests use the same one. */
export * from '../../bench/mosquitto.js';
