import type { RoutePlugin } from '../context.js';

export const usersRoutes: RoutePlugin = () => {};
