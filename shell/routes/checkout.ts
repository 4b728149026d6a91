import type { RoutePlugin } from '../context.js';

export const checkoutRoutes: RoutePlugin = () => {};
