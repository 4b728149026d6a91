import type { RoutePlugin } from '../context.js';

export const categoriesRoutes: RoutePlugin = () => {};
