import type { RoutePlugin } from '../context.js';

export const productImagesRoutes: RoutePlugin = () => {};
