import type { RoutePlugin } from '../context.js';

export const bankAccountsRoutes: RoutePlugin = () => {};
