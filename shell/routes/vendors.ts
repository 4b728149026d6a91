import type { RoutePlugin } from '../context.js';

export const vendorsRoutes: RoutePlugin = () => {};
