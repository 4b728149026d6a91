import type { RoutePlugin } from '../context.js';

export const productsRoutes: RoutePlugin = () => {};
