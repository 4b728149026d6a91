import type { RoutePlugin } from '../context.js';

export const ordersRoutes: RoutePlugin = () => {};
