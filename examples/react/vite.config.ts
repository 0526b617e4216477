import react from '@vitejs/plugin-react';
import { defineConfig } from 'vite';

// `vite build` is the app as shipped (dist/). `vite build --mode development` (with
// NODE_ENV=development from .env.development) is React's development build in dist/dev/:
// the one where <StrictMode> really mounts, unmounts and mounts again, which the
// end-to-end test needs.
export default defineConfig(({ mode }) => ({
  plugins: [react()],
  base: mode === 'development' ? './' : '/',
  build: mode === 'development' ? { outDir: 'dist/dev', minify: false } : {},
}));
