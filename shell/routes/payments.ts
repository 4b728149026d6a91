import type { RoutePlugin } from '../context.js';

export const paymentsRoutes: RoutePlugin = () => {};
