mod build;
