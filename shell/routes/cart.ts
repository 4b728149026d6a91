import type { RoutePlugin } from '../context.js';

export const cartRoutes: RoutePlugin = () => {};
