import type { RoutePlugin } from '../context.js';

export const authRoutes: RoutePlugin = () => {};
